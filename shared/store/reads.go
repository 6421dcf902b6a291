package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Reads and deletes of items by key, and the Query requests: every
// GetItem, DeleteItem and Query of the adapters is built by one of these,
// as txitems.go builds the writes.

// consistentGet is a strongly consistent GetItem of one item (an answer
// without Item: no such item).
func consistentGet(table string, k map[string]types.AttributeValue) *dynamodb.GetItemInput {
	return &dynamodb.GetItemInput{TableName: &table, Key: k, ConsistentRead: aws.Bool(true)}
}

// getByKey is an eventually consistent GetItem of one item.
func getByKey(table string, k map[string]types.AttributeValue) *dynamodb.GetItemInput {
	return &dynamodb.GetItemInput{TableName: &table, Key: k}
}

// keyQuery is a Query by e's key condition, eventually consistent.
func keyQuery(table string, e expression.Expression) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 &table,
		KeyConditionExpression:    e.KeyCondition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}
}

// consistentQuery is a strongly consistent Query by e's key condition.
func consistentQuery(table string, e expression.Expression) *dynamodb.QueryInput {
	in := keyQuery(table, e)
	in.ConsistentRead = aws.Bool(true)
	return in
}

// pageNewestFirst turns in into a page of size, newest sort key first, from
// after start (nil: the newest). It asks for one item more than the page
// holds, to know whether another page follows.
func pageNewestFirst(in *dynamodb.QueryInput, size int, start map[string]types.AttributeValue) *dynamodb.QueryInput {
	in.ScanIndexForward = aws.Bool(false)
	in.Limit = aws.Int32(int32(size) + 1)
	in.ExclusiveStartKey = start
	return in
}

// allPages runs in page by page, following LastEvaluatedKey, and returns
// every item read.
func allPages(ctx context.Context, db DynamoAPI, in *dynamodb.QueryInput) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for {
		out, err := db.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// updated runs the UpdateItem in, asking for the item as it is after it,
// and reads that into a T; what names it in the error. A refused
// condition is UpdateItem's own error, for errors.As.
func updated[T any](ctx context.Context, db DynamoAPI, in *dynamodb.UpdateItemInput, what string) (*T, error) {
	in.ReturnValues = types.ReturnValueAllNew
	out, err := db.UpdateItem(ctx, in)
	if err != nil {
		return nil, err
	}
	return decode[T](out.Attributes, what)
}

// deleteByKey is an unconditional DeleteItem of one item.
func deleteByKey(table string, k map[string]types.AttributeValue) *dynamodb.DeleteItemInput {
	return &dynamodb.DeleteItemInput{TableName: &table, Key: k}
}

// conditionalDelete is a DeleteItem of one item that holds only while e's
// condition does.
func conditionalDelete(table string, k map[string]types.AttributeValue, e expression.Expression) *dynamodb.DeleteItemInput {
	return &dynamodb.DeleteItemInput{
		TableName:                 &table,
		Key:                       k,
		ConditionExpression:       e.Condition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}
}
