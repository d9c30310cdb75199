"""Offline backtest of the warning chain: simulated storms scored against their ground truth.

``encosta backtest`` (:mod:`encosta.backtest.command`) replays scenarios x seeds through the
live path's code (:mod:`encosta.backtest.replay`) and scores each method
(:mod:`encosta.backtest.scores`); see docs/backtest.md.
"""
