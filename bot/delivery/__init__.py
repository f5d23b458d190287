"""The delivery engine: the one place that sends broadcasts, paced, durable, and never twice.

`engine` runs the loop and its leases, `sending` makes one request and maps Telegram's answer, `pacing` says
when requests may leave, `status` words the organizer's status message; the SQL is in services/deliveries.py.
"""

from bot.delivery.engine import DeliveryEngine
from bot.delivery.pacing import Pacer
from bot.delivery.sending import BroadcastBot
from bot.delivery.status import CONTROL, notice_text, status_message

__all__ = ["CONTROL", "BroadcastBot", "DeliveryEngine", "Pacer", "notice_text", "status_message"]
