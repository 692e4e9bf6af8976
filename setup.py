"""Builds the optional compiled round loop; everything else is in pyproject.toml.

``wbstream/engine/loop.py`` is plain Python and the only source of the round loop.
With Cython available at build time the same file is also compiled, as the
extension ``wbstream.engine._cloop`` (C types in ``_cloop.pxd``); the game uses it
when it is present and not older than ``loop.py``.
"""

from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # no Cython: the pure-Python loop runs, somewhat slower per round
    ext_modules = []
else:
    ext_modules = cythonize([Extension("wbstream.engine._cloop", ["wbstream/engine/loop.py"])],
                            compiler_directives={"language_level": 3}, quiet=True)

setup(ext_modules=ext_modules)
