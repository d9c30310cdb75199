"""Tests of the composition root: CLI, local stack, migrations, demo."""
