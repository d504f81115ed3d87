// Build step: copy the dashboard's static files next to the compiled module that serves them.
import { cpSync } from 'node:fs';

cpSync('src/dashboard/assets', 'dist/dashboard/assets', { recursive: true });
