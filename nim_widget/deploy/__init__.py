"""Deploying: the twelve-step orchestrator, its events and its rollback."""

from nim_widget.deploy.orchestrator import DeployResult, deploy
from nim_widget.deploy.preflight import Check
from nim_widget.deploy.steps import StepEvent, StepState

__all__ = ["Check", "DeployResult", "StepEvent", "StepState", "deploy"]
