from sb3_atari_ext.wrappers.atari import ActionSubset, SkipFrame

__all__ = ["ActionSubset", "SkipFrame"]
