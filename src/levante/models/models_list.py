"""The model catalogue: ``GET /v1/models``.

The official SDK has two card classes (``BaseModelCard`` for ``type: "base"`` and
``FTModelCard`` for ``type: "fine-tuned"``); levante has one permissive :class:`ModelCard`
holding the fields of both (and any new ones), with the two SDK names as aliases.
"""

from datetime import datetime

from pydantic import Field

from ._base import MistralModel, Nullable

__all__ = ["BaseModelCard", "FTModelCard", "ModelCapabilities", "ModelCard", "ModelList"]


class ModelCapabilities(MistralModel):
    """What a model can do; capabilities the server adds later are kept as extra fields."""

    completion_chat: bool = False
    function_calling: bool = False
    reasoning: bool = False
    completion_fim: bool = False
    fine_tuning: bool = False
    vision: bool = False
    ocr: bool = False
    classification: bool = False
    moderation: bool = False
    audio: bool = False


class ModelCard(MistralModel):
    """One model of the catalogue, base (``type == "base"``) or fine-tuned.

    Fine-tuned cards also carry ``job``, ``root`` and ``archived``.
    """

    id: str
    capabilities: ModelCapabilities = Field(default_factory=ModelCapabilities)
    object: str = "model"
    created: int | None = None
    owned_by: str = "mistralai"
    name: Nullable[str] = None
    description: Nullable[str] = None
    max_context_length: int = 32768
    aliases: list[str] | None = None
    deprecation: Nullable[datetime] = None
    deprecation_replacement_model: Nullable[str] = None
    default_model_temperature: Nullable[float] = None
    type: str = "base"
    job: str | None = None
    root: str | None = None
    archived: bool | None = None


BaseModelCard = ModelCard
"""The official SDK's name for a base model card (the same class here)."""

FTModelCard = ModelCard
"""The official SDK's name for a fine-tuned model card (the same class here)."""


class ModelList(MistralModel):
    """The answer of ``GET /v1/models``: the cards are in ``data``."""

    object: str = "list"
    data: list[ModelCard] | None = None
