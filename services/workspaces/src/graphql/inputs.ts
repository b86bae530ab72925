import { Field, InputType } from 'type-graphql';
import { RoleKind, SubjectKind } from './enums.js';

@InputType({ description: 'A kubeconfig file readable by Canopy, and the context to use (its current context when null).' })
export class KubeconfigInput {
  @Field() path!: string;
  @Field(() => String, { nullable: true }) context?: string | null;
}

@InputType()
export class SubjectInput {
  @Field(() => SubjectKind) kind!: SubjectKind;
  @Field() name!: string;
  @Field(() => String, { nullable: true, description: 'Required for a ServiceAccount.' }) namespace?: string | null;
}

@InputType()
export class RoleBindingInput {
  @Field() name!: string;
  @Field(() => [String], { description: 'Namespaces of the workspace by name, /regex/ to include, ~/regex/ to exclude.' }) namespaces!: string[];
  @Field(() => RoleKind) roleKind!: RoleKind;
  @Field({ description: 'The Role or ClusterRole; it must already exist on the clusters.' }) roleName!: string;
  @Field(() => [SubjectInput]) subjects!: SubjectInput[];
}

@InputType()
export class ClusterRoleBindingInput {
  @Field() name!: string;
  @Field() clusterRole!: string;
  @Field(() => [SubjectInput]) subjects!: SubjectInput[];
}

@InputType({ description: 'One key of a secret and its value (write-only: never shown back).' })
export class SecretValueInput {
  @Field() key!: string;
  @Field() value!: string;
}
