"""nim-widget: deploy NVIDIA NIM models onto Kubernetes / OpenShift AI from a notebook."""

__version__ = "0.1.0"
