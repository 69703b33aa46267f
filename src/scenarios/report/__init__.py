"""``scenarios report``: notebooks executed into dated HTML reports; see :mod:`scenarios.report.run`."""

from .index import build_index
from .params import (
    OPTIONAL_PARAMETERS,
    STANDARD_PARAMETERS,
    NotebookParameterError,
    ReportError,
    check_parameters,
    declared_parameters,
    import_papermill,
)
from .run import (
    EXIT_NOTEBOOK_FAILED,
    check_data_files,
    check_inputs,
    default_jobs,
    find_notebooks,
    repo_root,
    run_report,
    run_report_command,
)
from .runs import RunResult, cache_key

__all__ = [
    "ReportError",
    "NotebookParameterError",
    "declared_parameters",
    "check_parameters",
    "import_papermill",
    "cache_key",
    "run_report",
    "run_report_command",
    "check_inputs",
    "check_data_files",
    "build_index",
    "find_notebooks",
    "default_jobs",
    "repo_root",
    "RunResult",
    "STANDARD_PARAMETERS",
    "OPTIONAL_PARAMETERS",
    "EXIT_NOTEBOOK_FAILED",
]
