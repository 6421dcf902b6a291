package store

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Writes of one item by an expression: every transaction item and conditional UpdateItem is
// built by one of these, so that no call site copies an expression's parts
// into a request by hand.

// putIf is a transaction Put that holds only while cond does.
func putIf(table string, item map[string]types.AttributeValue, cond expression.Expression) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                 &table,
		Item:                      item,
		ConditionExpression:       cond.Condition(),
		ExpressionAttributeNames:  cond.Names(),
		ExpressionAttributeValues: cond.Values(),
	}}
}

// putNew puts item only where no item has its key yet.
func putNew(table string, item map[string]types.AttributeValue) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: &table, Item: item, ConditionExpression: aws.String(absent)}}
}

// update is a transaction Update of one item by an expression with its
// condition.
func update(table string, k map[string]types.AttributeValue, e expression.Expression) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 &table,
		Key:                       k,
		UpdateExpression:          e.Update(),
		ConditionExpression:       e.Condition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}}
}

// checkItem is a transaction ConditionCheck: the item is not
// written, the transaction holds only while e's condition does.
func checkItem(table string, k map[string]types.AttributeValue, e expression.Expression) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                 &table,
		Key:                       k,
		ConditionExpression:       e.Condition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}}
}

// deleteIf is a transaction Delete that holds only while e's condition does.
func deleteIf(table string, k map[string]types.AttributeValue, e expression.Expression) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName:                 &table,
		Key:                       k,
		ConditionExpression:       e.Condition(),
		ExpressionAttributeNames:  e.Names(),
		ExpressionAttributeValues: e.Values(),
	}}
}

// oldOnFailure asks for the item as it was when it fails its condition
// (Update and ConditionCheck items), to say why without another read.
func oldOnFailure(it types.TransactWriteItem) types.TransactWriteItem {
	old := types.ReturnValuesOnConditionCheckFailureAllOld
	if it.Update != nil {
		it.Update.ReturnValuesOnConditionCheckFailure = old
	}
	if it.ConditionCheck != nil {
		it.ConditionCheck.ReturnValuesOnConditionCheckFailure = old
	}
	return it
}

// newItem is a PutItem that may only create its item.
func newItem(table string, item map[string]types.AttributeValue) *dynamodb.PutItemInput {
	return &dynamodb.PutItemInput{TableName: &table, Item: item, ConditionExpression: aws.String(absent)}
}

// conditionalUpdate is an UpdateItem of one item by an expression with
// its condition.
func conditionalUpdate(table string, k map[string]types.AttributeValue, e expression.Expression) *dynamodb.UpdateItemInput {
	return updateItem(update(table, k, e).Update)
}

// updateItem is a transaction's Update run alone, as UpdateItem.
func updateItem(u *types.Update) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName:                 u.TableName,
		Key:                       u.Key,
		UpdateExpression:          u.UpdateExpression,
		ConditionExpression:       u.ConditionExpression,
		ExpressionAttributeNames:  u.ExpressionAttributeNames,
		ExpressionAttributeValues: u.ExpressionAttributeValues,
	}
}
