from sb3_atari_ext.torch_layers.cnn import FrameStem, SmallCNN
from sb3_atari_ext.torch_layers.lstm import LstmExtractor
from sb3_atari_ext.torch_layers.noisy import NoisyLinear, NoisyNatureCNN, noisy_exploration, noisy_layers, reset_noise
from sb3_atari_ext.torch_layers.transformer import TransformerExtractor

__all__ = [
    "FrameStem",
    "LstmExtractor",
    "NoisyLinear",
    "NoisyNatureCNN",
    "SmallCNN",
    "TransformerExtractor",
    "noisy_exploration",
    "noisy_layers",
    "reset_noise",
]
