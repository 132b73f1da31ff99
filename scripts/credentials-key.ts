// Prints a new armored OpenPGP private key for LINKFLOW_CREDENTIALS_KEY (docker-compose, production).
import { generateCredentialsKey } from '../domain/credentials';

generateCredentialsKey().then(
  (key) => process.stdout.write(key),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
