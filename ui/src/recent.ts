// Recent searches: the last 20, kept on this device only (the web view's IndexedDB, in the app's
// own storage; nothing is sent anywhere). Each holds the photo (shrunk to the engine's 1024 px
// working size, so a later region or category search of it sees what the engine saw), the answer
// as the engine gave it (reopened without running the models), the catalog it was searched in,
// and when. "Clear" deletes them all.

import type { DetectedObject, SearchResponse } from './generated/contract';

export const RECENT_MAX = 20;
const DB = 'lookalike';
const STORE = 'recent';
/** The engine's working size: a larger photo is stored at this size. */
const PHOTO_MAX_SIDE = 1024;

export interface RecentSearch {
  /** Assigned when stored. */
  key?: number;
  /** `Date.now()` of the search. */
  at: number;
  /** The catalog it was searched in (only that catalog's searches are offered). */
  catalog: string;
  name: string;
  photo: Blob;
  /** The latest answer for the photo (a region or category search of it included). */
  response: SearchResponse;
  /** The objects found in the whole photo (what its outlines offer). */
  objects: DetectedObject[];
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key', autoIncrement: true });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

async function all(): Promise<RecentSearch[]> {
  const db = await open();
  try {
    const req = db.transaction(STORE).objectStore(STORE).getAll();
    const rows = await new Promise<RecentSearch[]>((resolve, reject) => {
      req.onsuccess = () => resolve(req.result as RecentSearch[]);
      req.onerror = () => reject(req.error);
    });
    return rows.sort((a, b) => b.at - a.at || (b.key ?? 0) - (a.key ?? 0));
  } finally {
    db.close();
  }
}

/** The catalog's recent searches, newest first. */
export async function list(catalog: string): Promise<RecentSearch[]> {
  return (await all()).filter((r) => r.catalog === catalog);
}

/** Stores a search (or replaces the one with the same key), then keeps only the newest 20. */
export async function save(entry: RecentSearch): Promise<number> {
  const db = await open();
  try {
    const tx = db.transaction(STORE, 'readwrite');
    const req = tx.objectStore(STORE).put(entry);
    await done(tx);
    const key = req.result as number;
    const old = (await all()).slice(RECENT_MAX);
    if (old.length) {
      const del = db.transaction(STORE, 'readwrite');
      for (const r of old) del.objectStore(STORE).delete(r.key!);
      await done(del);
    }
    return key;
  } finally {
    db.close();
  }
}

export async function clear(): Promise<void> {
  const db = await open();
  try {
    const tx = db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).clear();
    await done(tx);
  } finally {
    db.close();
  }
}

/** The photo as it is kept: itself when it is within the working size, else shrunk to it (upright,
 * JPEG). Falls back to the photo itself when the browser cannot decode it. */
export async function keptPhoto(photo: Blob): Promise<Blob> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(photo);
  } catch {
    return photo;
  }
  const scale = PHOTO_MAX_SIDE / Math.max(bitmap.width, bitmap.height);
  if (scale >= 1) {
    bitmap.close();
    return photo;
  }
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext('2d')?.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return new Promise((resolve) => canvas.toBlob((b) => resolve(b ?? photo), 'image/jpeg', 0.92));
}
