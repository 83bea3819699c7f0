import { useRef, useState, type DragEvent } from 'react';
import { uploadFile, type UploadHandle, type UploadPhase } from '../lib/transfer.js';
import { formatBytes } from '../lib/ui.js';
import type { ProjectCtx } from './project.js';

interface Item {
  key: number;
  path: string;
  file: File;
  loaded: number;
  status: 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';
  error?: string;
  /** While uploading: hashing the file, sending parts, or completing and making the node. */
  phase?: UploadPhase;
  handle?: UploadHandle;
}

const PARALLEL = 3;
let nextKey = 1;

/** Walks a dropped folder (webkitGetAsEntry) into files with their relative paths. */
async function walk(entry: FileSystemEntry, prefix: string, out: { path: string; file: File }[]) {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path: `${prefix}${entry.name}`, file });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, `${prefix}${entry.name}/`, out);
  }
}

export function Uploader({ ctx, folder, onUploaded }: { ctx: ProjectCtx; folder: string; onUploaded: () => void }) {
  const [items, setItems] = useState<Item[]>([]);
  const [over, setOver] = useState(false);
  const itemsRef = useRef<Item[]>([]);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  const update = (key: number, patch: Partial<Item>) => {
    itemsRef.current = itemsRef.current.map((i) => (i.key === key ? { ...i, ...patch } : i));
    setItems(itemsRef.current);
  };

  const pump = () => {
    const running = itemsRef.current.filter((i) => i.status === 'uploading').length;
    const queued = itemsRef.current.filter((i) => i.status === 'queued').slice(0, Math.max(0, PARALLEL - running));
    for (const item of queued) {
      const target = `${folder.replace(/\/$/, '')}/${item.path}`;
      const handle = uploadFile(ctx.ns.slug, ctx.project.slug, target, item.file, (loaded) => update(item.key, { loaded }), (phase) => update(item.key, { phase }));
      update(item.key, { status: 'uploading', handle });
      handle.promise.then(
        () => {
          update(item.key, { status: 'done', loaded: item.file.size, handle: undefined });
          if (!itemsRef.current.some((i) => i.status === 'queued' || i.status === 'uploading')) onUploaded();
          pump();
        },
        (err: unknown) => {
          const cancelled = err instanceof DOMException && err.name === 'AbortError';
          update(item.key, { status: cancelled ? 'cancelled' : 'failed', error: cancelled ? undefined : (err as Error).message, handle: undefined });
          if (!itemsRef.current.some((i) => i.status === 'queued' || i.status === 'uploading')) onUploaded();
          pump();
        },
      );
    }
  };

  const add = (files: { path: string; file: File }[]) => {
    const fresh = files.map((f) => ({ key: nextKey++, path: f.path, file: f.file, loaded: 0, status: 'queued' as const }));
    itemsRef.current = [...itemsRef.current.filter((i) => i.status !== 'done'), ...fresh];
    setItems(itemsRef.current);
    pump();
  };

  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const out: { path: string; file: File }[] = [];
    const entries = [...e.dataTransfer.items].map((i) => (i.kind === 'file' ? i.webkitGetAsEntry() : null));
    if (entries.some(Boolean)) {
      for (const entry of entries) if (entry) await walk(entry, '', out);
    } else {
      for (const file of e.dataTransfer.files) out.push({ path: file.name, file });
    }
    add(out);
  };

  const fromInput = (list: FileList | null) => {
    if (!list) return;
    add([...list].map((file) => ({ path: file.webkitRelativePath || file.name, file })));
  };

  const cancel = (item: Item) => {
    if (item.handle) item.handle.cancel();
    else update(item.key, { status: 'cancelled' });
  };
  const cancelAll = () => itemsRef.current.forEach((i) => (i.status === 'queued' || i.status === 'uploading') && cancel(i));

  const active = items.filter((i) => i.status !== 'cancelled');
  const total = active.reduce((s, i) => s + i.file.size, 0);
  const loaded = active.reduce((s, i) => s + Math.min(i.loaded, i.file.size), 0);
  const busy = items.some((i) => i.status === 'queued' || i.status === 'uploading');
  const failed = items.filter((i) => i.status === 'failed').length;

  return (
    <section aria-label="Upload" className="upload">
      <div
        className={`dropzone${over ? ' over' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => void onDrop(e)}
      >
        <p>
          Drop files or folders here to upload them into <code>{folder}</code>, or{' '}
          <button type="button" onClick={() => filesInput.current?.click()}>choose files</button>{' '}
          <button type="button" onClick={() => folderInput.current?.click()}>choose a folder</button>
        </p>
        <input ref={filesInput} type="file" multiple hidden aria-label="Files to upload" onChange={(e) => fromInput(e.target.files)} />
        <input ref={folderInput} type="file" hidden aria-label="Folder to upload" {...{ webkitdirectory: '' }} onChange={(e) => fromInput(e.target.files)} />
      </div>
      {items.length > 0 && (
        <div className="queue">
          <div className="queue-head">
            <label className="grow">
              {busy ? 'Uploading' : failed ? `Finished with ${failed} failed` : 'Uploaded'} {formatBytes(loaded)} of {formatBytes(total)}
              <progress aria-label="Overall upload progress" max={total || 1} value={loaded} />
            </label>
            {busy && <button type="button" onClick={cancelAll}>Cancel all uploads</button>}
            {!busy && <button type="button" onClick={() => setItems((itemsRef.current = []))}>Clear</button>}
          </div>
          <ul>
            {items.map((i) => (
              <li key={i.key} className={`status-${i.status}`}>
                <span className="grow">{i.path}</span>
                <progress aria-label={`Upload of ${i.path}`} max={i.file.size || 1} value={i.status === 'done' ? i.file.size || 1 : i.loaded} />
                <span className="status">{i.status === 'failed' ? <span role="alert">Failed: {i.error}</span> : i.status === 'uploading' && i.phase && i.phase !== 'uploading' ? i.phase : i.status}</span>
                {(i.status === 'queued' || i.status === 'uploading') && (
                  <button type="button" onClick={() => cancel(i)} aria-label={`Cancel upload of ${i.path}`}>Cancel</button>
                )}
              </li>
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
