export const FILE_KINDS = ['model', 'pipeline', 'postprocessor', 'backend'] as const;
export type FileKind = (typeof FILE_KINDS)[number];
