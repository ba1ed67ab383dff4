"""Core v1 Events, recorded the way client-go's event recorder writes them.

``kubectl describe`` and UIs read progress and failures from Events, so they carry the real
reasons, messages, sources and the aggregation a real cluster shows: the same event repeated is
one object whose ``count`` grows and whose ``lastTimestamp`` moves ("x5 over 2m"). Event names are
``<object>.<hex nanoseconds>`` as the recorder builds them; the clock makes them deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..status import ApiError
from .base import EVENTS, Obj, Runtime, meta, name_of, ns_of

NORMAL = "Normal"
WARNING = "Warning"


class EventRecorder:
    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._seq = 0
        # aggregation key -> event name; an entry is dropped when its event disappears
        self._index: dict[tuple[str, ...], str] = {}

    def record(
        self,
        obj: Mapping[str, Any],
        *,
        reason: str,
        message: str,
        type: str = NORMAL,
        component: str,
        host: str = "",
        field_path: str = "",
        namespace: str | None = None,
    ) -> None:
        """Emit (or bump the count of) an Event about ``obj``; failures to write are ignored.

        Events are best effort on a real cluster too: a namespace being torn down or an object
        already gone must not stop the controller that reports on it.
        """
        rt = self._rt
        ns = namespace if namespace is not None else (ns_of(obj) or "default")
        involved: Obj = {
            "kind": obj.get("kind", ""),
            "namespace": ns_of(obj),
            "name": name_of(obj),
            "uid": meta(obj).get("uid", ""),
            "apiVersion": obj.get("apiVersion", ""),
            "resourceVersion": meta(obj).get("resourceVersion", ""),
        }
        if field_path:
            involved["fieldPath"] = field_path
        involved = {k: v for k, v in involved.items() if v}
        key = (ns, str(involved.get("uid", "")), field_path, reason, message, type, component, host)
        now = rt.now()
        try:
            existing_name = self._index.get(key)
            if existing_name is not None:
                current = rt.store.try_get(EVENTS, ns, existing_name)
                if current is not None:
                    current["count"] = int(current.get("count", 1)) + 1
                    current["lastTimestamp"] = now
                    rt.store.replace(EVENTS, current)
                    return
            self._seq += 1
            stamp = int(rt.clock.now() * 1e9) + self._seq
            event: Obj = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{name_of(obj)}.{stamp:x}", "namespace": ns},
                "involvedObject": involved,
                "reason": reason,
                "message": message,
                "source": {"component": component, **({"host": host} if host else {})},
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
                "type": type,
                "reportingComponent": component,
                "reportingInstance": host,
            }
            created = rt.store.create(EVENTS, event)
            self._index[key] = name_of(created)
        except ApiError:
            return
