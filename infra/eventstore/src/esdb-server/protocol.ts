/**
 * The EventStoreDB gRPC protocol as the Node client ships it: the generated
 * message classes and service definitions of `@eventstore/db-client`, so this
 * server speaks exactly the protocol version that client speaks.
 */
import { createRequire } from 'node:module';
import streamsPb from '@eventstore/db-client/generated/streams_pb.js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import sharedPb from '@eventstore/db-client/generated/shared_pb.js';
import statusPb from '@eventstore/db-client/generated/status_pb.js';
import codePb from '@eventstore/db-client/generated/code_pb.js';
import serverFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import serverFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import gossipPb from '@eventstore/db-client/generated/gossip_pb.js';
import gossipGrpc from '@eventstore/db-client/generated/gossip_grpc_pb.js';

// google.protobuf.Any and Empty, from the google-protobuf copy the generated code itself uses.
const requireFromClient = createRequire(createRequire(import.meta.url).resolve('@eventstore/db-client'));
const anyPb = requireFromClient('google-protobuf/google/protobuf/any_pb.js') as typeof import('google-protobuf/google/protobuf/any_pb.js');
const emptyPb = requireFromClient('google-protobuf/google/protobuf/empty_pb.js') as typeof import('google-protobuf/google/protobuf/empty_pb.js');

export import ReadReq = streamsPb.ReadReq;
export import ReadResp = streamsPb.ReadResp;
export import AppendReq = streamsPb.AppendReq;
export import AppendResp = streamsPb.AppendResp;
export import BatchAppendReq = streamsPb.BatchAppendReq;
export import BatchAppendResp = streamsPb.BatchAppendResp;

export const { Empty, UUID, StreamIdentifier, AllStreamPosition, WrongExpectedVersion, MaximumAppendSizeExceeded, BadRequest, Unknown } = sharedPb;
export type Empty = sharedPb.Empty;
export type UUID = sharedPb.UUID;
export type StreamIdentifier = sharedPb.StreamIdentifier;

export const { Status } = statusPb;
export type Status = statusPb.Status;
export const { Code } = codePb;

export const { SupportedMethods, SupportedMethod } = serverFeaturesPb;
export const { ClusterInfo, MemberInfo, EndPoint } = gossipPb;

export const { Any } = anyPb;
export type Any = InstanceType<typeof anyPb.Any>;
export const GoogleEmpty = emptyPb.Empty;

export const StreamsService = streamsGrpc.StreamsService;
export const ServerFeaturesService = serverFeaturesGrpc.ServerFeaturesService;
export const GossipService = gossipGrpc.GossipService;

/** Packs a message into a google.protobuf.Any under the full protobuf type name. */
export function packAny(message: { serializeBinary(): Uint8Array }, typeName: string): Any {
  const any = new Any();
  any.pack(message.serializeBinary(), typeName);
  return any;
}

export function streamName(identifier: StreamIdentifier | undefined): string {
  if (!identifier) return '';
  return Buffer.from(identifier.getStreamName_asU8()).toString('utf8');
}

export function streamIdentifier(name: string): StreamIdentifier {
  const identifier = new StreamIdentifier();
  identifier.setStreamName(Uint8Array.from(Buffer.from(name, 'utf8')));
  return identifier;
}

const UUID_HEX = /^[0-9a-f]{32}$/;

/** A protocol UUID as its canonical lower-case string; undefined when it is neither form. */
export function uuidToString(uuid: UUID | undefined): string | undefined {
  if (!uuid) return undefined;
  if (uuid.hasStructured()) {
    const structured = uuid.getStructured()!;
    const bytes = Buffer.alloc(16);
    bytes.writeBigInt64BE(BigInt.asIntN(64, BigInt(structured.getMostSignificantBits())), 0);
    bytes.writeBigInt64BE(BigInt.asIntN(64, BigInt(structured.getLeastSignificantBits())), 8);
    const hex = bytes.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
  return uuid.hasString() ? uuid.getString() : undefined;
}

/** A UUID in the form the reader asked for (`ReadReq.Options.uuid_option`). */
export function uuidMessage(id: string, structured: boolean): UUID {
  const uuid = new UUID();
  const hex = id.replace(/-/g, '').toLowerCase();
  if (structured && UUID_HEX.test(hex)) {
    const bytes = Buffer.from(hex, 'hex');
    const value = new UUID.Structured();
    value.setMostSignificantBits(bytes.readBigInt64BE(0).toString(10));
    value.setLeastSignificantBits(bytes.readBigInt64BE(8).toString(10));
    uuid.setStructured(value);
  } else {
    uuid.setString(id);
  }
  return uuid;
}
