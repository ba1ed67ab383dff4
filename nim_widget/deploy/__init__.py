"""Deploying: the twelve-step orchestrator, its events and its rollback."""

from nim_widget.deploy.orchestrator import DeployResult, deploy
from nim_widget.deploy.steps import StepEvent, StepState

__all__ = ["DeployResult", "StepEvent", "StepState", "deploy"]
