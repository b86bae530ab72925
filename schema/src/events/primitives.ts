import { z } from 'zod';

/** A Kubernetes DNS-1123 label: lower-case letters, digits and '-', starting and ending alphanumeric, at most 63 characters. */
export const KubernetesName = z
  .string()
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a Kubernetes name: lower-case letters, digits and '-', starting and ending with a letter or digit");

export const Id = z.string().min(1).max(128);
export const UserId = z.string().min(1).max(256);
export const Description = z.string().max(1024, 'must be at most 1024 characters');

/** Workspace roles, from least to most powerful. */
export const WorkspaceRole = z.enum(['viewer', 'member', 'admin', 'owner']);
export type WorkspaceRole = z.infer<typeof WorkspaceRole>;

export const OrganizationKind = z.enum(['personal', 'team']);
export type OrganizationKind = z.infer<typeof OrganizationKind>;

/** Default: created with the organization; project: by hand; environment: one per stage. */
export const WorkspaceKind = z.enum(['default', 'project', 'environment']);
export type WorkspaceKind = z.infer<typeof WorkspaceKind>;

/** dev, staging and production are the usual stages; a custom stage is any Kubernetes name. */
export const Stage = KubernetesName;

/** A Kubernetes DNS-1123 subdomain (Secret names): labels joined by '.', at most 253 characters. */
export const KubernetesSubdomain = z
  .string()
  .max(253, 'must be at most 253 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "must be a Kubernetes name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit");

/** CPU in millicores (1 core = 1000); at most 100,000 cores, more than any cluster we govern. */
export const CpuMillicores = z.number().int().min(0).max(100_000_000);
/** Memory in bytes; at most 1 PiB. */
export const MemoryBytes = z.number().int().min(0).max(2 ** 50);

/** "unlimited" is said explicitly, never encoded as zero. */
export const Unlimited = z.literal('unlimited');
export const CpuLimit = z.union([CpuMillicores, Unlimited]);
export const MemoryLimit = z.union([MemoryBytes, Unlimited]);
export type CpuLimit = z.infer<typeof CpuLimit>;
export type MemoryLimit = z.infer<typeof MemoryLimit>;
