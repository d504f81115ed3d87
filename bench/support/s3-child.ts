// Child process: one private s3rver on a free port, so S3 work has its own event loop as a real
// object store would. Prints `s3 ready <endpoint>`; stops (and deletes its directory) on SIGTERM.
import { startS3 } from '../../test/helpers/s3-server.js';

const s3 = await startS3();
console.log(`s3 ready ${s3.endpoint}`);
const stop = () => {
  s3.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
