/** Where the staging directory appears inside a container unless the config says otherwise. */
export const DEFAULT_MOUNT_PATH = '/app/run';
