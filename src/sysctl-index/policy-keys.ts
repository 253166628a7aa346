/**
 * The label and annotations the index reads objects by: the policy's `keys`, declared here
 * because the index is what reads them: the index layer imports nothing of config.
 */
export interface PolicyKeys {
  /** Namespace label and node label naming a team. */
  readonly teamLabel: string;
  /** Node annotation (declared node-level values) and pod annotation (node-level values needed). */
  readonly sysctlsAnnotation: string;
  /** Node annotation mirroring the kubelet's `--allowed-unsafe-sysctls`. */
  readonly allowedUnsafeSysctlsAnnotation: string;
}
