"""What a person reads in a CAP message or on the status page: words, in the network's language.

A network's public profile (``alerts/profiles/<network>.toml``: language, sender name, web page,
contact, how long a message stays valid) chooses the language; the words of every level,
transition, criterion and page label are here, in ``pt-BR`` and ``en``. A network without a
profile, or with a language not listed, speaks English.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

import msgspec

FALLBACK_LANGUAGE = "en"


class _ProfileFile(msgspec.Struct, forbid_unknown_fields=True):
    language: str = FALLBACK_LANGUAGE
    sender_name: str = "Encosta"
    web: str | None = None
    contact: str | None = None
    expires_hours: float = 6.0
    timezone: str = "UTC"
    public_url: str | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """A network's public voice: its language and how it signs its messages."""

    network: str
    language: str
    sender_name: str
    web: str | None
    contact: str | None
    expires_hours: float
    timezone: str = "UTC"
    # Base of the public API (ENCOSTA_API_PUBLIC_URL's value): broadcasters' CAP links.
    public_url: str | None = None


@dataclass(frozen=True, slots=True)
class Words:
    """Every phrase of one language."""

    levels: tuple[str, str, str, str]
    risk_event: str
    data_event: str
    transitions: dict[str, str]
    headline: str  # {event} {transition} {zone} {level}
    level_sentence: str  # {zone} {level} {n}
    instructions: tuple[str, str, str, str]
    data_instruction: str
    criteria: dict[str, str]
    criterion_sentence: str  # {what} {value} {unit} {threshold} {station}
    stale_sentence: str  # {stale} {total} {stations}
    note: str
    degraded: str
    updated: str
    since: str
    shelters: str
    title: str
    no_data: str
    stale: str
    last_data: str
    example: str
    footer: str
    degraded_detail: str
    date_format: str


PT_BR = Words(
    levels=("normal", "atenção", "alerta", "crise"),
    risk_event="Risco de deslizamento",
    data_event="Falha nos dados de monitoramento de encostas",
    transitions={
        "raised": "emitido",
        "escalated": "agravado",
        "de-escalated": "reduzido",
        "acknowledged": "confirmado pela central",
        "unacknowledged": "sem confirmação da central",
        "cleared": "encerrado",
    },
    headline="{event} {transition}: {zone}, nível {level}",
    level_sentence="{zone} está em nível {level} ({n} de 3).",
    instructions=(
        "Situação normal. Mantenha a calha e os ralos limpos e observe sinais como rachaduras.",
        (
            "Fique atento: observe rachaduras, postes ou árvores inclinados e água brotando do "
            "morro. Saiba qual é o seu ponto de apoio mais próximo."
        ),
        (
            "Se você mora em área de risco, prepare-se para sair: leve documentos e remédios e "
            "siga para o ponto de apoio ao ouvir a sirene ou se notar sinais de deslizamento."
        ),
        (
            "Saia agora da área de risco e vá para o ponto de apoio mais próximo. Não volte para "
            "casa até o fim do alerta. Emergência: ligue 199 (Defesa Civil) ou 193 (Bombeiros)."
        ),
    ),
    data_instruction="O monitoramento desta área está incompleto: não conclua que não há "
    "risco. Em chuva forte, siga as orientações da Defesa Civil.",
    criteria={
        "rain_1h": "chuva em 1 hora",
        "rain_24h": "chuva em 24 horas",
        "rain_96h": "chuva em 96 horas",
        "intensity_duration": "intensidade da chuva",
        "antecedent": "chuva acumulada dos últimos dias",
        "slope": "fator de segurança da encosta",
        "corroboration": "estações em crise",
        "live_stations": "estações funcionando",
        "community_report": "relatos confirmados de moradores",
    },
    criterion_sentence="{what}: {value} {unit} (limite {threshold}){station}.",
    stale_sentence="{stale} de {total} estações sem dados: {stations}.",
    note="Mensagem automática do sistema Encosta.",
    degraded="monitoramento degradado",
    updated="Dados atualizados em",
    since="desde",
    shelters="Pontos de apoio",
    title="Situação das encostas",
    no_data="sem dados",
    stale="Atenção: esta página não consegue se atualizar. A situação pode ter mudado; siga "
    "as orientações da Defesa Civil.",
    last_data="Última leitura dos sensores",
    example="exemplo, a confirmar",
    footer="Página automática do sistema Encosta. Em emergência ligue 199 (Defesa Civil) "
    "ou 193 (Bombeiros).",
    degraded_detail="faltam dados de sensores desta área; não conclua que não há risco",
    date_format="%d/%m/%Y %H:%M",
)

EN = Words(
    levels=("normal", "attention", "alert", "crisis"),
    risk_event="Landslide risk",
    data_event="Landslide monitoring data outage",
    transitions={
        "raised": "raised",
        "escalated": "escalated",
        "de-escalated": "de-escalated",
        "acknowledged": "acknowledged by the operations centre",
        "unacknowledged": "not acknowledged by the operations centre",
        "cleared": "cleared",
    },
    headline="{event} {transition}: {zone} at level {level}",
    level_sentence="{zone} is at level {level} ({n} of 3).",
    instructions=(
        "No warning in force. Keep gutters and drains clear and watch for cracks.",
        (
            "Stay alert: watch for cracks, leaning poles or trees and water springing from the "
            "slope. Know where your nearest support point is."
        ),
        (
            "If you live in a risk area, get ready to leave: take documents and medicines and go "
            "to the support point when the siren sounds or you see signs of a landslide."
        ),
        (
            "Leave the risk area now and go to the nearest support point. Do not return home until "
            "the warning is over."
        ),
    ),
    data_instruction="Monitoring of this area is incomplete: do not conclude there is no "
    "risk. In heavy rain, follow the civil defence's instructions.",
    criteria={
        "rain_1h": "1-hour rain",
        "rain_24h": "24-hour rain",
        "rain_96h": "96-hour rain",
        "intensity_duration": "rain intensity",
        "antecedent": "antecedent rain",
        "slope": "slope factor of safety",
        "corroboration": "stations in crisis",
        "live_stations": "stations reporting",
        "community_report": "confirmed community reports",
    },
    criterion_sentence="{what}: {value} {unit} (threshold {threshold}){station}.",
    stale_sentence="{stale} of {total} stations silent: {stations}.",
    note="Automatic message of the Encosta system.",
    degraded="monitoring degraded",
    updated="Data updated at",
    since="since",
    shelters="Support points",
    title="Hillside status",
    no_data="no data",
    stale="Warning: this page cannot update itself. The situation may have changed; follow "
    "the civil defence's instructions.",
    last_data="Newest sensor reading",
    example="example, to be confirmed",
    footer="Automatic page of the Encosta system.",
    degraded_detail="sensor data of this area is missing; do not conclude there is no risk",
    date_format="%Y-%m-%d %H:%M",
)

LANGUAGES = {"pt-BR": PT_BR, "en": EN}


@functools.cache
def profile(network: str) -> Profile:
    """``network``'s public profile; English and a plain sender name when it has none."""
    source = resources.files("alerts.profiles").joinpath(f"{network}.toml")
    document: dict[str, Any] = tomllib.loads(source.read_text("utf-8")) if source.is_file() else {}
    parsed = msgspec.convert(document, _ProfileFile)
    language = parsed.language if parsed.language in LANGUAGES else FALLBACK_LANGUAGE
    return Profile(
        network,
        language,
        parsed.sender_name,
        parsed.web,
        parsed.contact,
        parsed.expires_hours,
        parsed.timezone,
        parsed.public_url,
    )


def words(language: str) -> Words:
    """The phrases of ``language`` (English when it is not one of :data:`LANGUAGES`)."""
    return LANGUAGES.get(language, EN)


def number(value: object, language: str) -> str:
    """``value`` as a reader writes it: one decimal, a decimal comma in Portuguese."""
    if not isinstance(value, int | float):
        return "?"
    text = f"{value:.1f}" if isinstance(value, float) else str(value)
    return text.replace(".", ",") if language == "pt-BR" else text


def describe_risk(evidence: dict[str, Any], words_: Words, language: str) -> list[str]:
    """One sentence per criterion that reached a level (or all when none did)."""
    criteria = [c for c in evidence.get("criteria", []) if isinstance(c, dict)]
    reached = [c for c in criteria if (c.get("level") or 0) >= 1] or criteria[:1]
    out = []
    for c in reached:
        station = c.get("station")
        out.append(
            words_.criterion_sentence.format(
                what=words_.criteria.get(str(c.get("criterion")), str(c.get("criterion"))),
                value=number(c.get("value"), language),
                unit=c.get("unit") or "",
                threshold=number(c.get("threshold"), language),
                station=f" — {station}" if station else "",
            )
        )
    return out


def describe_data(evidence: dict[str, Any], words_: Words) -> list[str]:
    """The silent stations of a data alert, in a sentence."""
    stale = [str(s) for s in evidence.get("stale_stations", [])]
    if not stale:
        return []
    return [
        words_.stale_sentence.format(
            stale=len(stale), total=evidence.get("stations", "?"), stations=", ".join(stale)
        )
    ]
