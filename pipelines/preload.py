"""What the extraction workers' forkserver loads once, before it forks them.

crawler.item_pipelines.ExtractPipeline and pipelines.reextract name this module as their forkserver's
preload: every worker then shares these pages with the forkserver instead of building its own copy.
That is the extraction code with trafilatura and lxml, and the language model (about 120 MB), which
pipelines.language otherwise loads on first use in each process: most pages of an Arabic outlet never
need it (`plainly_arabic`), but the first French page or Persian-keyboard caption would load it into
every worker in turn.
"""

import pipelines.process  # noqa: F401  (trafilatura, lxml, the extraction code)
from pipelines.language import load_model

load_model()
