// What a completeness check proves about an image file: its pixel size, read from the format's headers.
// Shared by the per-format checks (check-png.ts, check-jpeg.ts, check-webp.ts).

export interface ImageSize {
  width: number;
  height: number;
}
