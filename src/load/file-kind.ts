export const FILE_KINDS = ['model', 'pipeline', 'ensemble', 'postprocessor', 'backend'] as const;
export type FileKind = (typeof FILE_KINDS)[number];
