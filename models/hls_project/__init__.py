"""hls4ml projects as they are deployed: a project directory's C++ read into an emulator spec (``import_project``)
and checked event by event against the project's own C++ compiled with g++ (``verify``)."""

from l1t.models.hls_project._import import Project, import_project, read_project
from l1t.models.hls_project._layers import imported_functions
from l1t.models.hls_project._source import Array, ProjectError
from l1t.models.hls_project._verify import Mismatch, ProjectRunner, Verification, stimulus, verify

__all__ = [
    "Array",
    "Mismatch",
    "Project",
    "ProjectError",
    "ProjectRunner",
    "Verification",
    "import_project",
    "imported_functions",
    "read_project",
    "stimulus",
    "verify",
]
