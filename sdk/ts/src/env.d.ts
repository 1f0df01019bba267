// The generated program client reads `process.env.NODE_ENV` (Vite replaces it in the build).
declare const process: { env: Record<string, string | undefined> };
