// proper-lockfile, for staging-lock.ts to import when it takes a lock. A
// CommonJS module: a static import receives its exports as the default, as
// its types say; a dynamic import of the package itself would get them as
// the namespace's default, which its types do not declare.
import lockfile from 'proper-lockfile';

export { lockfile };
