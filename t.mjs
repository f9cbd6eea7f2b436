export async function slow(ms) { await new Promise(r => setTimeout(r, ms)); return 1; }
