"""The dev server's fake workflow runs: deterministic executions, their events and logs.

An execution id ending in ``-N`` (``exec-50``) runs ``N`` activities (at most 10,000), any
other id runs three.  Its events, numbered by ``broker_sequence`` from 0, are
``WORKFLOW_EXECUTION_STARTED``, then ``ACTIVITY_TASK_STARTED`` and
``ACTIVITY_TASK_COMPLETED`` for each activity, then ``WORKFLOW_EXECUTION_COMPLETED``;
its log records are one line per event.  A deployment's logs are those of its workers
running ``exec-3``.  Clock times are fixed (one second per step from 2024-05-01 12:00 UTC),
so two runs of a test see the same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["WORKFLOW_NAME", "Execution", "execution", "log_time"]

WORKFLOW_NAME = "levante-demo"
_ACTIVITY = "blow"
_START = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
_MAX_ACTIVITIES = 10_000
_COUNT = re.compile(r"-(\d+)$")


def _stamp(step: int) -> str:
    return (_START + timedelta(seconds=step)).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Execution:
    """One fake workflow execution."""

    id: str
    activities: int

    @property
    def run_id(self) -> str:
        """The id of its (only) run."""
        return f"run-{self.id}"

    def event_count(self) -> int:
        """How many events the execution emits."""
        return 2 * self.activities + 2

    def _event(self, seq: int) -> dict[str, Any]:
        activity, started = divmod(seq - 1, 2)
        task = f"task-{seq}"
        if seq == 0:
            kind = "WORKFLOW_EXECUTION_STARTED"
            payload = {"value": {"wind": "levante"}, "type": "json"}
            attributes = {"task_id": task, "workflow_name": WORKFLOW_NAME, "input": payload}
        elif seq == self.event_count() - 1:
            kind = "WORKFLOW_EXECUTION_COMPLETED"
            result = {"value": {"activities": self.activities}, "type": "json"}
            attributes = {"task_id": task, "result": result}
        else:
            kind = "ACTIVITY_TASK_COMPLETED" if started else "ACTIVITY_TASK_STARTED"
            payload = {"value": {"activity": activity + 1}, "type": "json"}
            key = "result" if started else "input"
            attributes = {"task_id": task, "activity_name": _ACTIVITY, key: payload}
        return {
            "event_id": f"{self.id}-event-{seq}",
            "event_timestamp": int((_START + timedelta(seconds=seq)).timestamp() * 1000),
            "root_workflow_exec_id": self.id,
            "parent_workflow_exec_id": None,
            "workflow_exec_id": self.id,
            "workflow_run_id": self.run_id,
            "workflow_name": WORKFLOW_NAME,
            "attributes": attributes,
            "event_type": kind,
        }

    def payload(self, seq: int) -> dict[str, Any]:
        """The SSE payload of event ``seq``: the event in its stream envelope."""
        return {
            "stream": f"workflow-{self.id}",
            "data": self._event(seq),
            "workflow_context": {
                "namespace": "default",
                "workflow_name": WORKFLOW_NAME,
                "workflow_exec_id": self.id,
                "root_workflow_exec_id": self.id,
            },
            "broker_sequence": seq,
            "timestamp": _stamp(seq),
            "metadata": {},
        }

    def log(self, seq: int, attributes: dict[str, str]) -> dict[str, Any]:
        """Log record ``seq`` (one per event), with ``attributes`` added to its own."""
        kind = self._event(seq)["event_type"]
        activity = "" if seq in (0, self.event_count() - 1) else str((seq - 1) // 2 + 1)
        return {
            "timestamp": _stamp(seq),
            "trace_id": f"{seq:032x}",
            "span_id": f"{seq:016x}",
            "severity_text": "INFO",
            "body": f"{WORKFLOW_NAME} {self.id}: {kind.lower().replace('_', ' ')}",
            "log_attributes": {
                "workflow_exec_id": self.id,
                "workflow_run_id": self.run_id,
                "activity_id": activity,
                **attributes,
            },
        }


def execution(execution_id: str) -> Execution:
    """The execution answering to ``execution_id`` (any id exists)."""
    found = _COUNT.search(execution_id)
    count = min(int(found.group(1)), _MAX_ACTIVITIES) if found else 3
    return Execution(execution_id, count)


def log_time(seq: int) -> datetime:
    """When log record ``seq`` was written."""
    return _START + timedelta(seconds=seq)
