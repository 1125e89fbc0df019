"""The GitHub Action's pieces: settings from ``INPUT_*``, Label Studio links, the pull-request comment.

``entrypoint.py`` at the repository root chains them; the runner protocol itself lives in
``ml_test.github`` and the Markdown in ``ml_test.report.markdown``.
"""
