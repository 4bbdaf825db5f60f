// The variable-name rules of the launcher: valid names, dangerous names, with-secrets' own inputs, the pristine set.

/** A portable environment variable name, as POSIX shells accept it. */
const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** True when `name` can be a variable name (`[A-Za-z_][A-Za-z0-9_]*`). */
export function isValidVariableName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

/**
 * Variables that change which code runs or where it comes from (loaders, interpreters, shells,
 * helper programs, trust stores). A profile sets them only when `allowDangerous` names them.
 */
const DANGEROUS_NAMES = new Set([
  'PATH',
  'HOME',
  'SHELL',
  'IFS',
  'ENV',
  'BASH_ENV',
  'BASHOPTS',
  'SHELLOPTS',
  'PS4',
  'PROMPT_COMMAND',
  'ZDOTDIR',
  'CDPATH',
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_EXTRA_CA_CERTS',
  'NODE_TLS_REJECT_UNAUTHORIZED',
  'PYTHONPATH',
  'PYTHONHOME',
  'PYTHONSTARTUP',
  'PYTHONINSPECT',
  'PYTHONUSERBASE',
  'PERL5LIB',
  'PERLLIB',
  'PERL5OPT',
  'RUBYOPT',
  'RUBYLIB',
  'GEM_HOME',
  'GEM_PATH',
  'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS',
  'JDK_JAVA_OPTIONS',
  'CLASSPATH',
  'GCONV_PATH',
  'GLIBC_TUNABLES',
  'LOCPATH',
  'NLSPATH',
  'HOSTALIASES',
  'RESOLV_HOST_CONF',
  'TMPDIR',
  'EDITOR',
  'VISUAL',
  'PAGER',
  'BROWSER',
  'LESSOPEN',
  'LESSCLOSE',
  'GIT_SSH',
  'GIT_SSH_COMMAND',
  'GIT_EXEC_PATH',
  'GIT_EDITOR',
  'GIT_PAGER',
  'GIT_ASKPASS',
  'GIT_PROXY_COMMAND',
  'GIT_TEMPLATE_DIR',
  'GIT_CONFIG_GLOBAL',
  'GIT_CONFIG_SYSTEM',
  'GIT_CONFIG_COUNT',
  'SSH_ASKPASS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_CONFIG_DIRS',
  'XDG_DATA_DIRS',
  'XDG_RUNTIME_DIR',
]);

/** Prefixes of dangerous families (the dynamic loaders, git's config injection). */
const DANGEROUS_PREFIXES = ['LD_', 'DYLD_', 'GIT_CONFIG_KEY_', 'GIT_CONFIG_VALUE_', 'MALLOC_'];
/** The prefixes as one test (no closure per call: it runs for every variable of every profile at each launch). */
const DANGEROUS_PREFIX = new RegExp(`^(?:${DANGEROUS_PREFIXES.join('|')})`);

/** True when a profile may set `name` only with an explicit `allowDangerous` entry. */
export function isDangerousVariable(name: string): boolean {
  return DANGEROUS_NAMES.has(name) || DANGEROUS_PREFIX.test(name);
}

/** The marker variable: the names (never values) with-secrets injected into this process's environment. */
export const INJECTED_MARKER = 'WITH_SECRETS_INJECTED';

/**
 * with-secrets' own inputs, removed from every child unless the profile keeps them (`keepEnv`):
 * a private key, key locations and key commands.
 */
export const OWN_INPUTS: readonly string[] = [
  'SOPS_AGE_KEY',
  'SOPS_AGE_KEY_FILE',
  'SOPS_AGE_KEY_CMD',
  'SOPS_AGE_SSH_PRIVATE_KEY_FILE',
  'SOPS_AGE_SSH_PRIVATE_KEY_CMD',
];

/** Names a profile can never set: the launcher's own bookkeeping. */
export function isReservedVariable(name: string): boolean {
  return name === INJECTED_MARKER;
}

/** What `--pristine` keeps from the parent: identity, terminal, locale, and the user's session sockets. */
const PRISTINE_NAMES = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'TERM',
  'COLORTERM',
  'LANG',
  'TZ',
  'TMPDIR',
  'XDG_RUNTIME_DIR',
  'DISPLAY',
  'WAYLAND_DISPLAY',
  'SSH_AUTH_SOCK',
]);

/** True when `--pristine` passes the parent's `name` through. */
export function isPristineVariable(name: string): boolean {
  return PRISTINE_NAMES.has(name) || name.startsWith('LC_');
}
