"""The one model base every contract shares: camelCase on the wire, strict about unknown fields."""

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    """A model that reads and writes camelCase JSON and refuses fields it does not know."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
    )

    def to_wire(self) -> dict:
        return self.model_dump(by_alias=True, mode="json", exclude_none=True)
