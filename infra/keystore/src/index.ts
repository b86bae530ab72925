export { generateMasterKey, loadOrCreateDevMasterKey, MASTER_KEY_BYTES, parseMasterKey } from './master-key.js';
export { KeyStore, type KeyStoreOptions } from './key-store.js';
export { SecretCipher, type SealedValue } from './secret-cipher.js';
export { openKeyStore, type KeyStoreConfig, type OpenedKeyStore } from './open.js';
