#!/usr/bin/env python3
"""Write models/image-inputs/: image files and the tensors Pillow and torchvision make of them.

Run from the repository root:

    /usr/bin/python3 models/make_image_inputs.py

A 161×119 crop of scikit-learn's bundled `china.jpg` photo, saved as PNG (lossless) and as a 4:2:0
JPEG (quality 85, Pillow's default chroma subsampling) that embeds an ICC profile (sRGB primaries,
linear tone curves: a colour-managed decoder changes every pixel, Pillow ignores it, as phone photos'
Display P3 profiles), and as an RGBA PNG whose colours are the photo's (`photo_alpha.png`); a corner
of it as an RGB PNG with a transparent colour (`corner_trns.png`, a tRNS chunk) and Pillow's RGB of it; `photo420.rgb.npy` is Pillow's decoding of that JPEG (libjpeg-turbo). For each case, the model input the usual pipelines give:
torchvision `Resize(round(min(h, w)/0.875))`, `CenterCrop((h, w))`, `ToTensor`, ImageNet
`Normalize` on RGB; `Grayscale()` first, without Normalize, for a one-channel model; the same two of the PNG with
CIFAR-10's and MNIST's `Normalize` (`--mean/--std`); Pillow's
`resize((w, h), BILINEAR)` / 255 for `--preprocess none`; and Keras' `load_img(target_size=…)`
(Pillow's NEAREST resize) with `preprocess_input`'s arithmetic in modes 'tf' and 'caffe'. Deterministic (Pillow 9.4, torchvision 0.14).
"""
import os
import struct

import numpy as np
import torchvision.transforms as T
from PIL import Image
from sklearn.datasets import load_sample_image

OUT = 'models/image-inputs'


def linear_srgb_profile():
    """An ICC v2 display profile: D50-adapted sRGB primaries, tone curves of gamma 1."""
    def fixed(v):
        return struct.pack('>i', int(round(v * 65536)))

    def xyz(x, y, z):
        return b'XYZ ' + bytes(4) + fixed(x) + fixed(y) + fixed(z)

    text = b'linear sRGB\0'
    desc = b'desc' + bytes(4) + struct.pack('>I', len(text)) + text + bytes(8 + 2 + 1 + 67)
    gamma1 = b'curv' + bytes(4) + struct.pack('>IH', 1, 256) + bytes(2)
    tags = [(b'desc', desc), (b'wtpt', xyz(0.9642, 1.0, 0.8249)), (b'rXYZ', xyz(0.4361, 0.2225, 0.0139)),
            (b'gXYZ', xyz(0.3851, 0.7169, 0.0971)), (b'bXYZ', xyz(0.1431, 0.0606, 0.7141)),
            (b'rTRC', gamma1), (b'gTRC', gamma1), (b'bTRC', gamma1), (b'cprt', b'text' + bytes(4) + b'none' + bytes(4))]
    start = 128 + 4 + 12 * len(tags)
    table, data = b'', b''
    for signature, body in tags:
        data += bytes(-(start + len(data)) % 4)
        table += signature + struct.pack('>II', start + len(data), len(body))
        data += body
    body = struct.pack('>I', len(tags)) + table + data
    header = (struct.pack('>I', 128 + len(body)) + b'none' + bytes([2, 0x10, 0, 0]) + b'mntrRGB XYZ ' + bytes(12) + b'acspAPPL'
              + bytes(24) + fixed(0.9642) + fixed(1.0) + fixed(0.8249) + bytes(48))
    assert len(header) == 128
    return header + body


os.makedirs(OUT, exist_ok=True)
photo = Image.fromarray(load_sample_image('china.jpg')[140:259, 200:361])
photo.save(f'{OUT}/photo.png')
# The same pixels with an alpha channel (transparent top rows, every opacity below): Pillow's
# convert('RGB') keeps the stored colours, so its tensors are photo.png's.
alpha = ((np.arange(161)[None] * 7 + np.arange(119)[:, None] * 3) % 256).astype(np.uint8)
alpha[:16] = 0
Image.fromarray(np.dstack([np.asarray(photo), alpha])).save(f'{OUT}/photo_alpha.png')
# An RGB PNG whose tRNS chunk marks one colour transparent (a flat band on top): Pillow keeps that colour.
corner = np.asarray(photo)[:30, :40].copy()
corner[:8] = (41, 20, 15)
Image.fromarray(corner).save(f'{OUT}/corner_trns.png', transparency=(41, 20, 15))
np.save(f'{OUT}/corner_trns.rgb.npy', np.asarray(Image.open(f'{OUT}/corner_trns.png').convert('RGB')))
photo.save(f'{OUT}/photo420.jpg', quality=85, subsampling=2, icc_profile=linear_srgb_profile())
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
    if stem == 'photo':
        # Other normalisations (--mean/--std): CIFAR-10's, and MNIST's on a one-channel model.
        cifar = T.Compose([T.Resize(37), T.CenterCrop(32), T.ToTensor(), T.Normalize([0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616])])
        np.save(f'{OUT}/{stem}.cifar_32x32.npy', cifar(im).numpy()[None])
        mnist = T.Compose([T.Grayscale(), T.Resize(37), T.CenterCrop(32), T.ToTensor(), T.Normalize([0.1307], [0.3081])])
        np.save(f'{OUT}/{stem}.mnist_32x32.npy', mnist(im).numpy()[None])
    plain = np.asarray(im.resize((28, 20), Image.BILINEAR), dtype=np.float32).transpose(2, 0, 1)[None] / 255
    np.save(f'{OUT}/{stem}.none_20x28.npy', plain)
    # Keras: load_img(target_size=(20, 28)) resizes with NEAREST; img_to_array gives float32 [H, W, 3];
    # preprocess_input's numpy code for mode 'tf' and 'caffe' (channels_last), then NCHW.
    x = np.asarray(im.resize((28, 20), Image.NEAREST), dtype=np.float32)
    tf = x / 127.5
    tf -= 1.0
    np.save(f'{OUT}/{stem}.tf_20x28.npy', tf.transpose(2, 0, 1)[None])
    caffe = x[..., ::-1].copy()
    for c, mean in enumerate([103.939, 116.779, 123.68]):
        caffe[..., c] -= mean
    np.save(f'{OUT}/{stem}.caffe_20x28.npy', caffe.transpose(2, 0, 1)[None])
