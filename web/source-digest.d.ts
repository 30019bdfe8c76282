export declare const webBuildDir: string;
export declare const digestFile: string;
export declare function webSourceDigest(): string;
export declare function webBuildIsCurrent(): boolean;
