"""The ISP event API: the ISP's own system reports cancelled or suspended internet accounts."""

from __future__ import annotations

import hmac
import json
from datetime import date

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from denwa.core.errors import DenwaError
from denwa.core.timeutil import tokyo_today
from denwa.subscribers.services import apply_isp_event


@csrf_exempt  # a machine-to-machine endpoint authenticated by its bearer token
@require_POST
def isp_event(request: HttpRequest) -> JsonResponse:
    """POST {"account": ID, "event": "cancelled"|"suspended", "date": "YYYY-MM-DD"?}.

    Authorization: Bearer <DENWA_ISP_EVENT_TOKEN>.  The same event twice
    answers ``changed: false``.
    """
    token = settings.DENWA_ISP_EVENT_TOKEN
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not hmac.compare_digest(sent.encode(), token.encode()):
        return JsonResponse({"error": "unauthorized", "code": "unauthorized"}, status=401)
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError("body must be a JSON object")
        on = date.fromisoformat(body["date"]) if body.get("date") else tokyo_today()
        result = apply_isp_event(str(body["account"]), str(body["event"]), on, "isp-system")
    except (KeyError, ValueError) as error:
        return JsonResponse({"error": f"bad request: {error}", "code": "bad_request"}, status=400)
    except DenwaError as error:
        status = 404 if error.code == "unknown_isp_account" else 400
        return JsonResponse({"error": error.message, "code": error.code}, status=status)
    return JsonResponse(
        {
            "account": result.account_id,
            "status": result.status,
            "changed": result.changed,
            "terminated": list(result.terminated),
        }
    )
