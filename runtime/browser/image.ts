import { Rgb, rgbFromRgba } from '../image';
import { ExplainError } from '../../rewriter/errors';

/**
 * Decodes an image file (PNG, JPEG, WebP, … whatever the browser decodes) into RGB in [0, 1]: the
 * file's own values, as Pillow reads them, without what a browser does for display — colour
 * management (an embedded ICC profile, as phone photos' Display P3, or a PNG gamma) and, where
 * WebGL 2 is there to read the pixels back, premultiplied alpha (a 2D canvas keeps colours
 * multiplied by their opacity: transparent pixels lose theirs).
 */
export async function decodeImage(file: Blob): Promise<Rgb> {
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' }).catch((e: unknown) => {
    const name = file instanceof File ? file.name : `a ${file.size}-byte ${file.type || 'blob'}`;
    throw new ExplainError(`decodeImage: the browser cannot decode ${name} as an image (${(e as Error)?.message ?? e})`);
  });
  const { width, height } = bitmap;
  const rgba = straightPixels(bitmap) ?? canvasPixels(bitmap);
  bitmap.close();
  return rgbFromRgba(rgba, width, height);
}

/** The bitmap's RGBA as uploaded to a WebGL 2 texture and read back: colours not premultiplied by alpha. */
function straightPixels(bitmap: ImageBitmap): Uint8Array | undefined {
  const { width, height } = bitmap;
  const gl = new OffscreenCanvas(width, height).getContext('webgl2');
  if (!gl) return undefined;
  const texture = gl.createTexture();
  gl.bindTexture(gl.TEXTURE_2D, texture);
  gl.pixelStorei(gl.UNPACK_PREMULTIPLY_ALPHA_WEBGL, false);
  gl.pixelStorei(gl.UNPACK_COLORSPACE_CONVERSION_WEBGL, gl.NONE);
  gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);
  const framebuffer = gl.createFramebuffer();
  gl.bindFramebuffer(gl.FRAMEBUFFER, framebuffer);
  gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
  const rgba = new Uint8Array(width * height * 4);
  // Rows come back in the order they were uploaded (the texture's first row is the framebuffer's y = 0).
  gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, rgba);
  const failed = gl.getError() !== gl.NO_ERROR;
  gl.deleteFramebuffer(framebuffer);
  gl.deleteTexture(texture);
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return failed ? undefined : rgba;
}

function canvasPixels(bitmap: ImageBitmap): Uint8ClampedArray {
  const context = new OffscreenCanvas(bitmap.width, bitmap.height).getContext('2d')!;
  context.drawImage(bitmap, 0, 0);
  return context.getImageData(0, 0, bitmap.width, bitmap.height).data;
}

/** RGBA pixels (a visualize() Canvas) as an ImageData for a canvas's putImageData. */
export function rgbaImageData(pixels: { width: number; height: number; data: Uint8Array }): ImageData {
  return new ImageData(Uint8ClampedArray.from(pixels.data), pixels.width, pixels.height);
}
