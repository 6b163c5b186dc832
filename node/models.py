"""The user as the session holds it: the seed's UserDTO, nothing sensitive."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping


# Not frozen: a frozen dataclass sets each field through object.__setattr__,
# four times slower, and redis mode makes one on every request.  Nothing
# changes one: a rename makes a new one.
@dataclasses.dataclass(slots=True)
class UserDTO:
    id: int
    nick_name: str
    icon: str = ""
    # GET /user/me's answer, kept by node/views.py: an in-process store
    # answers with the same user every time.
    answer: bytes | None = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "nickName": self.nick_name, "icon": self.icon}

    def to_hash(self) -> dict[str, str]:
        # Every field as a string: the seed's ClassCastException came from
        # handing a Long to a store that only takes strings.
        return {"id": str(self.id), "nickName": self.nick_name, "icon": self.icon}

    @classmethod
    def from_hash(cls, fields: Mapping[str, str]) -> UserDTO:
        return cls(id=int(fields["id"]), nick_name=fields["nickName"], icon=fields.get("icon", ""))
