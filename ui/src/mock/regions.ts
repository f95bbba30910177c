// Which recorded region search answers a region: the one that overlaps it most. Shared by the
// browser-mode mock (backend.ts) and the UI tests' in-page backend (tests/ui/harness.mjs, which
// runs this very file), so both mocks pick the same recording.

import type { Region } from '../generated/contract';

/** Overlap of two regions (intersection over union). */
export function iou(a: Region, b: Region): number {
  const w = Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));
  const inter = w * h;
  return inter / (a.w * a.h + b.w * b.h - inter);
}

/** The entry of `recorded` whose region overlaps `region` most (undefined: none was recorded). */
export function closest<T extends { region: Region }>(recorded: T[], region: Region): T | undefined {
  return [...recorded].sort((a, b) => iou(b.region, region) - iou(a.region, region))[0];
}
