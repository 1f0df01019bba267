/// <reference types="vitest/config" />
// The package is one ES module (dist/index.js) with @solana/kit and openapi-fetch left as
// dependencies; tsc writes the type declarations beside it.
import { defineConfig } from 'vite';

export default defineConfig({
  build: {
    target: 'es2022',
    lib: { entry: 'src/index.ts', formats: ['es'], fileName: 'index' },
    rollupOptions: { external: [/^@solana\//, 'openapi-fetch'] },
    sourcemap: true,
  },
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  test: { include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 180_000, hookTimeout: 180_000 },
});
