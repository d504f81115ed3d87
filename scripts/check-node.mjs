// Runs before `npm start`, `npm test` and `npm run bench`: refuse an end-of-life Node in the first second.
// Plain JavaScript that any Node can parse, so the message is what the user sees, not a syntax error.
const required = 22;
const major = Number(process.versions.node.split('.')[0]);
if (major < required) {
  process.stderr.write(
    `kontext-relay needs Node.js >= ${required} (26 recommended); this is ${process.version}. Run: source scripts/use-node.sh\n`,
  );
  process.exit(1);
}
