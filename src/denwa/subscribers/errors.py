"""Errors of the subscriber services; each carries its data and a stable code."""

from __future__ import annotations

from denwa.core.errors import DenwaError


class SubscriberError(DenwaError):
    """Base of the subscriber services' errors."""

    code = "subscriber_error"


class UnknownSubscriber(SubscriberError):
    """No contract holds this number."""

    code = "unknown_subscriber"

    def __init__(self, number: str) -> None:
        super().__init__(f"no contract holds {number}")
        self.number = number


class NumberNotOurs(SubscriberError):
    """The number is not in one of our own 050 blocks."""

    code = "number_not_ours"

    def __init__(self, number: str, call_class: str) -> None:
        super().__init__(f"{number} is not one of our 050 numbers (it is {call_class})")
        self.number = number


class NumberTaken(SubscriberError):
    """Another contract already holds the number."""

    code = "number_taken"

    def __init__(self, number: str) -> None:
        super().__init__(f"{number} is already held by a contract")
        self.number = number


class ReasonRequired(SubscriberError):
    """An operator action that must say why was given no reason."""

    code = "reason_required"

    def __init__(self, action: str) -> None:
        super().__init__(f"{action} needs a reason")
        self.action = action


class EquipmentError(SubscriberError):
    """A TA cannot be assigned, returned or collected as asked."""

    code = "equipment_error"


class UnknownIspAccount(SubscriberError):
    """No ISP account has this id."""

    code = "unknown_isp_account"

    def __init__(self, account_id: str) -> None:
        super().__init__(f"no ISP account {account_id}")
        self.account_id = account_id
