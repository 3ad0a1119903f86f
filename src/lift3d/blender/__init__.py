"""Blender hand-off: the Blender-side scene script (:mod:`~lift3d.blender.scene_script`, runs inside Blender's own
Python) and the runner that finds Blender and starts it in a separate process (:mod:`~lift3d.blender.runner`)."""
