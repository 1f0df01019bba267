// The generated program client (in @calor/sdk) reads `process.env.NODE_ENV` (Vite replaces it).
declare const process: { env: Record<string, string | undefined> };
