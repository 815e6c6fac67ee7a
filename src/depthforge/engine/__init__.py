"""Training and evaluation engine on Lightning: module, resumable sampling, callbacks, runner.

Import the pieces from their modules (``depthforge.engine.runner.train``,
``depthforge.engine.evaluation.evaluate``) so that ``import depthforge`` stays light.
"""
