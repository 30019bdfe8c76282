export declare function buildWebPagesWhenStale(): Promise<void>;
