// Fixed places on the appliance that `dovelab --help` names: a leaf with no imports, so the CLI
// can describe its verbs without loading the modules that use these places (issue 13: a CLI call
// stays small). The modules that use them re-export them.

/** The settings on the SD card's boot partition (`dovelab boot-config apply`). */
export const BOOT_FILE = '/boot/firmware/dovelab.yaml';

/** Where the image build puts the image tars and their manifest.json (`dovelab images load`). */
export const DEFAULT_PRELOAD_DIR = '/opt/dovelab/images';

/** The NetworkManager drop-in's file name (in /etc/NetworkManager/conf.d). */
export const NM_FILE = '90-dovelab-unmanaged.conf';
