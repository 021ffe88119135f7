#!/usr/bin/env python3
"""Write models/image-inputs/: image files and the tensors Pillow and torchvision make of them.

Run from the repository root:

    /usr/bin/python3 models/make_image_inputs.py

A 161×119 crop of scikit-learn's bundled `china.jpg` photo, saved as PNG (lossless) and as a 4:2:0
JPEG (quality 85, Pillow's default chroma subsampling); `photo420.rgb.npy` is Pillow's decoding of
that JPEG (libjpeg-turbo). For each case, the model input the usual pipelines give:
torchvision `Resize(round(min(h, w)/0.875))`, `CenterCrop((h, w))`, `ToTensor`, ImageNet
`Normalize` on RGB; `Grayscale()` first, without Normalize, for a one-channel model; and Pillow's
`resize((w, h), BILINEAR)` / 255 for `--preprocess none`. Deterministic (Pillow 9.4, torchvision 0.14).
"""
import os

import numpy as np
import torchvision.transforms as T
from PIL import Image
from sklearn.datasets import load_sample_image

OUT = 'models/image-inputs'
os.makedirs(OUT, exist_ok=True)
photo = Image.fromarray(load_sample_image('china.jpg')[140:259, 200:361])
photo.save(f'{OUT}/photo.png')
photo.save(f'{OUT}/photo420.jpg', quality=85, subsampling=2)
np.save(f'{OUT}/photo420.rgb.npy', np.asarray(Image.open(f'{OUT}/photo420.jpg').convert('RGB')))

NORMALIZE = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
for source in ['photo.png', 'photo420.jpg']:
    im = Image.open(f'{OUT}/{source}').convert('RGB')
    stem = source.split('.')[0]
    for h, w in [(32, 32), (24, 32)]:
        tv = T.Compose([T.Resize(round(min(h, w) / 0.875)), T.CenterCrop((h, w)), T.ToTensor(), NORMALIZE])
        np.save(f'{OUT}/{stem}.torchvision_{h}x{w}.npy', tv(im).numpy()[None])
    gray = T.Compose([T.Grayscale(), T.Resize(37), T.CenterCrop(32), T.ToTensor()])
    np.save(f'{OUT}/{stem}.gray_32x32.npy', gray(im).numpy()[None])
    plain = np.asarray(im.resize((28, 20), Image.BILINEAR), dtype=np.float32).transpose(2, 0, 1)[None] / 255
    np.save(f'{OUT}/{stem}.none_20x28.npy', plain)
