"""The user as the session holds it: the seed's UserDTO, nothing sensitive."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping


@dataclasses.dataclass(frozen=True, slots=True)
class UserDTO:
    id: int
    nick_name: str
    icon: str = ""

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "nickName": self.nick_name, "icon": self.icon}

    def to_hash(self) -> dict[str, str]:
        # Every field as a string: the seed's ClassCastException came from
        # handing a Long to a store that only takes strings.
        return {"id": str(self.id), "nickName": self.nick_name, "icon": self.icon}

    @classmethod
    def from_hash(cls, fields: Mapping[str, str]) -> UserDTO:
        return cls(id=int(fields["id"]), nick_name=fields["nickName"], icon=fields.get("icon", ""))
