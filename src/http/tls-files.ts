import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';

/** `--tls-cert`, `--tls-key` and, for mutual TLS, `--client-ca` (kube-scheduler's tlsConfig). */
export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** When set, clients must present a certificate signed by this CA. */
  readonly clientCaFile?: string;
}

export interface LoadedTls {
  readonly options: SecureContextOptions & { requestCert: boolean; rejectUnauthorized: boolean };
  /** Content fingerprint, to notice a rotation. */
  readonly fingerprint: string;
}

/**
 * Reads and checks the files: throws (with the file at fault) if one is unreadable or the key
 * does not match the certificate, so a half-written rotation is never put in service.
 */
export function loadTls(files: TlsFiles): LoadedTls {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`cannot read TLS ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const cert = read(files.certFile, 'certificate');
  const key = read(files.keyFile, 'key');
  const ca = files.clientCaFile ? read(files.clientCaFile, 'client CA') : undefined;
  const options = { cert, key, ...(ca ? { ca } : {}), requestCert: ca !== undefined, rejectUnauthorized: ca !== undefined };
  try {
    createSecureContext(options);
  } catch (err) {
    throw new Error(`TLS files ${files.certFile} and ${files.keyFile} are not a usable pair: ${(err as Error).message}`);
  }
  return { options, fingerprint: [cert, key, ca ?? ''].map((b) => b.toString('base64')).join('|') };
}
