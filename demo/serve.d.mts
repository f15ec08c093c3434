/** Serves `root` (default dist-demo/) on 127.0.0.1:port (0: a free port) with COOP/COEP headers. */
export function serveDemo(opts?: { port?: number; root?: string }): Promise<{ url: string; close(): Promise<void> }>;
