// The bin's first module: V8 compile cache on where Node has it, then the CLI itself (main.ts, a separate bundle file).
import { homedir } from 'node:os';
import { enableCompileCache } from './compile-cache.js';

// As in main.ts, and before anything else: on Node 20 an unhandled SIGUSR1 opens the inspector.
process.on('SIGUSR1', () => {});

// The compile cache only helps modules loaded after it is on, so main.ts is loaded from here.
enableCompileCache(process.env, process.env['HOME'] || homedir(), typeof process.getuid === 'function' ? process.getuid() : -1);
await import('./main.js');
